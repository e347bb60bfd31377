"""Languages of the portal pages: Chinese and English, chosen by link, cookie or browser."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, request
from flask_babel import Babel, get_locale, ngettext

from portal.security import set_cookie

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select_language() -> str:
    """`?lang=`, else the `lang` cookie, else the browser's Accept-Language, else English."""
    for choice in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of the page being rendered ("en" or "zh")."""
    return get_locale().language


def language_url(language: str) -> str:
    """This page's address with `?lang=` set to `language` (the language switch's link); a
    repeated parameter (the guide's `unit`) is kept whole."""
    query = {**request.args.to_dict(flat=False), "lang": [language]}
    return f"{request.path}?{urlencode(query, doseq=True)}"


def html_lang(language: str) -> str:
    """The HTML `lang` value of a language: Simplified Chinese or English."""
    return "zh-Hans" if language == "zh" else language


def credits_text(value: float | int | str) -> str:
    """A number of credits in words ("1 credit", "4.5 credits", "4.5学分"), trailing zeros off."""
    number = float(value)
    return ngettext("%(credits)s credit", "%(credits)s credits", 1 if number == 1 else 2,
                    credits=f"{number:g}")


def remember_language(response: Response) -> Response:
    """Keep a language chosen with `?lang=` in a cookie for the next pages."""
    choice = request.args.get("lang")
    if choice in LANGUAGES and request.cookies.get(COOKIE) != choice:
        set_cookie(response, COOKIE, choice, max_age=COOKIE_MAX_AGE)
    return response


def init_app(app: Flask) -> None:
    """Install Flask-Babel with our locale choice and the language cookie."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_language)
    app.after_request(remember_language)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        current_language=current_language,
        language_url=language_url,
        credits_text=credits_text,
        html_lang=html_lang,
    )
