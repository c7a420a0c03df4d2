from plugins.registry import register


@register("xml")
class XmlTags:
    def read(self, text):
        return text.strip("<>")
