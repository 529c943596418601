"""The project's URLs plus one that fails, for the error-page tests."""

from django.urls import path

from aftersales.urls import handler404, handler500, urlpatterns as project_urlpatterns  # noqa: F401 - the handlers are read from here


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [*project_urlpatterns, path("boom/", boom), path("api/v1/boom/", boom)]
