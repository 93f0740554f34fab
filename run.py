"""Development server: `python run.py` (or `make start`)."""

from wsgi import app

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, debug=app.config["DEBUG"])
