class JSONExporter:
    def run(self, data):
        return str(data)


JsonExporter = JSONExporter
