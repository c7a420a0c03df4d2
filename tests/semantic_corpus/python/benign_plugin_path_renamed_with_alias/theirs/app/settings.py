PLUGINS = ["app.exporters.JsonExporter"]
