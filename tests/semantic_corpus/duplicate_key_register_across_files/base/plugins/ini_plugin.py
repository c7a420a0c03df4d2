from plugins.registry import register


@register("ini")
class IniPlugin:
    def read(self, text):
        return text.split("=")
