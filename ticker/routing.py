"""WebSocket routes of the ticker app."""

from django.urls import path

from ticker.consumers import TickerConsumer

websocket_urlpatterns = [
    path("ws/live/<slug:slug>/", TickerConsumer.as_asgi()),
]
