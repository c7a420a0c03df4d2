"""Settings."""


class Config:
    DEBUG = False
    VERBOSE = False
    NAME = "app"
