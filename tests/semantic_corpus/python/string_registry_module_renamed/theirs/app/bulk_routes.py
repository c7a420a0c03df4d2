BULK_ROUTES = {"bulk": "app.handlers.mail.send"}
