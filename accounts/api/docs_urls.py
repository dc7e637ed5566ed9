"""The OpenAPI schema of the API and its interactive docs (Swagger UI), to mount beside ``urls``.

Separate from the API's own URLs because these need ``drf_spectacular`` in ``INSTALLED_APPS`` and
``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"``; a host that
does not mount them needs neither (docs/ADOPTING.md, step 1).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# Namespaced, so that the names never shadow a host's own.
app_name = "authfold_api_docs"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name=f"{app_name}:schema"), name="docs"),
]
