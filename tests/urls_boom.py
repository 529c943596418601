"""The project's URLs plus one that fails, for the error-page tests."""

from django.urls import path

from aftersales.urls import handler404, handler500  # noqa: F401 - the handlers are read from here
from aftersales.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [*project_urlpatterns, path("boom/", boom), path("api/v1/boom/", boom)]
