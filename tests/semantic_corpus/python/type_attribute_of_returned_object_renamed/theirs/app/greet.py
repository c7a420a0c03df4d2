from app.users import make


def greet(n):
    user = make(n)
    return 'hi ' + user.name
