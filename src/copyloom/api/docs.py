"""``/docs`` (Swagger UI) and ``/redoc`` served with their scripts and styles from the ``fastapi-offline``
package, so the reference loads on a machine without internet (FastAPI's defaults load them from a CDN).

A Content-Security-Policy keeps the pages to the app's own origin: ReDoc's sidebar would otherwise still fetch
the Redocly logo from its CDN (it hides the image when that fails)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from copyloom.api.openapi import build_openapi

ASSETS = "/docs/assets"
OPENAPI_URL = "/openapi.json"
# Inline scripts and styles: Swagger UI starts from an inline script, ReDoc styles itself inline and searches in
# a worker built from a blob.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
_SWAGGER_PARAMETERS = {
    "validatorUrl": None,  # Swagger UI would otherwise send the spec to an online validator
    "persistAuthorization": True,
    "displayRequestDuration": True,
    "defaultModelsExpandDepth": 0,
    "tryItOutEnabled": False,
}


def install_docs(app: FastAPI) -> None:
    """Serve the OpenAPI document, Swagger UI and ReDoc; create the app with ``docs_url=None, redoc_url=None``."""
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _same_origin_only(
            get_swagger_ui_html(
                openapi_url=OPENAPI_URL,
                title=f"{app.title} API",
                oauth2_redirect_url="/docs/oauth2-redirect",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                swagger_ui_parameters=_SWAGGER_PARAMETERS,
            )
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _same_origin_only(
            get_redoc_html(
                openapi_url=OPENAPI_URL,
                title=f"{app.title} API",
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )


def _same_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["content-security-policy"] = CSP
    return page
