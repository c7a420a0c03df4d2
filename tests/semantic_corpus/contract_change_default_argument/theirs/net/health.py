from net.client import connect


def probe(host):
    return connect(host)
