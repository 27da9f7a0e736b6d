"""`RewritingTransport`: crawl an offline mirror on loopback under the sites' real URLs."""

from __future__ import annotations

import httpx

__all__ = ["RewritingTransport"]


class RewritingTransport(httpx.BaseTransport):
    """Sends requests for mapped origins to another address; everything else sees real URLs.

    `host_map` maps "https://www.varnesregionen.no" to "http://127.0.0.1:8101". The http
    spelling of a mapped https origin is mapped too (sites mix them in links). Absolute
    Location headers pointing at the target are mapped back. With `strict`, a request to an
    unmapped origin fails with ConnectError instead of reaching the network.
    """

    def __init__(
        self, inner: httpx.BaseTransport, host_map: dict[str, str], *, strict: bool = False
    ) -> None:
        self._inner = inner
        self._strict = strict
        self._forward: dict[str, httpx.URL] = {}
        self._back: dict[str, str] = {}
        for real, target in host_map.items():
            real_url, target_url = httpx.URL(real), httpx.URL(target)
            origin = _origin(real_url)
            self._forward[origin] = target_url
            self._back[_origin(target_url)] = origin
            plain = "http://" + origin.split("://", 1)[1]
            self._forward.setdefault(plain, target_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self._forward.get(_origin(request.url))
        if target is not None:
            request.url = request.url.copy_with(
                scheme=target.scheme, host=target.host, port=target.port
            )
        elif self._strict:
            raise httpx.ConnectError(f"{_origin(request.url)} is not mapped", request=request)
        response = self._inner.handle_request(request)
        location = response.headers.get("location")
        if location:
            for target_origin, real in self._back.items():
                if location.startswith(target_origin):
                    response.headers["location"] = real + location[len(target_origin) :]
                    break
        return response

    def close(self) -> None:
        self._inner.close()


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
