"""Sending mail."""


class Mailer:
    def __init__(self, host):
        self.host = host
        self.sent = []

    def send(self, to, body, *, retries=3):
        self.sent.append((to, body))
        return len(self.sent)
