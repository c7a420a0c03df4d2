class Config:
    def __init__(self):
        self.level = 1


def current():
    return Config()
