class Config:
    def __init__(self):
        self.debug = False
        self.level = 1


def current():
    return Config()
