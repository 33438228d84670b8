"""URLs for the floor measurements in bench/stages.py only (never mounted by the app)."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


class OneInsert(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_floor (body) VALUES (%s) RETURNING id",
                [request.data.get("body", "")],
            )
            row = cursor.fetchone()
        return Response({"id": row[0]}, status=201)


urlpatterns = [path("bare/", csrf_exempt(bare)), path("insert/", csrf_exempt(OneInsert.as_view()))]
