ROUTES = {"mail": "app.handlers.email.send"}
