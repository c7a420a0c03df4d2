ROUTES = {"mail": "app.handlers.mail.send"}
