class JsonExporter:
    def run(self, data):
        return str(data)
