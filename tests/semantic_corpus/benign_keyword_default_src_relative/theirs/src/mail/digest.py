from .mailer import Mailer


def send_digest(host, people):
    mailer = Mailer(host)
    for person in people:
        mailer.send(person, "digest")
    return mailer.sent
