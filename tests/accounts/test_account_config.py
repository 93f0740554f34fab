"""The account settings of config.py: defaults, and values refused at start-up."""

import pytest

from config import ConfigError, DevelopmentConfig


def test_defaults():
    config = DevelopmentConfig({"PUBLIC_BASE_URL": "https://bookings.example.com/"})
    assert config.TRUSTED_PROXIES == 0
    assert config.RATELIMIT_AUTH == "10 per minute"
    assert config.RATELIMIT_LOGIN_FAILURES == "10 per 15 minutes"
    assert config.RESET_TOKEN_MINUTES == 30
    assert config.PASSWORD_RESET_URL == "https://bookings.example.com/app/reset-password"


def test_values_from_the_environment():
    config = DevelopmentConfig(
        {
            "TRUSTED_PROXIES": "2",
            "RATELIMIT_LOGIN_FAILURES": "5 per hour",
            "RESET_TOKEN_MINUTES": "10",
            "PASSWORD_RESET_URL": "https://console.example/reset",
        }
    )
    assert config.TRUSTED_PROXIES == 2
    assert config.RATELIMIT_LOGIN_FAILURES == "5 per hour"
    assert config.RESET_TOKEN_MINUTES == 10
    assert config.PASSWORD_RESET_URL == "https://console.example/reset"


@pytest.mark.parametrize(
    "env",
    [
        {"TRUSTED_PROXIES": "-1"},
        {"TRUSTED_PROXIES": "one"},
        {"RESET_TOKEN_MINUTES": "0"},
        {"RATELIMIT_LOGIN_FAILURES": "lots"},
        {"RATELIMIT_AUTH": "10 per fortnight"},
    ],
)
def test_unusable_values_stop_the_start(env):
    with pytest.raises(ConfigError):
        DevelopmentConfig(env)
