from plugins.registry import register


@register("csv")
class CsvPlugin:
    def read(self, text):
        return text.split(",")
