def send(msg):
    return msg
