PLUGINS = [
    "app.exporters.JsonExporter",
]
