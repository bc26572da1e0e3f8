"""All WebSocket routes of the project."""

from ticker.routing import websocket_urlpatterns as ticker_websockets

websocket_urlpatterns = [*ticker_websockets]
