"""A small API used only by the tests of the shared API plumbing (error shape, authentication)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import include, path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from saypro.errors import DomainError


class ProbeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    count = serializers.IntegerField(min_value=1)


class ProbeView(APIView):
    def get(self, request: Request, pk: int) -> Response:
        user = get_object_or_404(User, pk=pk)
        return Response({"email": user.email})

    def post(self, request: Request, pk: int) -> Response:
        serializer = ProbeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)

    def delete(self, request: Request, pk: int) -> Response:
        raise DomainError("This user cannot be deleted while a review is open.")


urlpatterns = [
    path("probe/<int:pk>/", ProbeView.as_view()),
    path("", include("saypro.urls")),
]
