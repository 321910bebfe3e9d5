"""OtelTraceSink through a real OTLP/HTTP exporter to a receiver on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from awaken_eval.otel import AGENT_RUN_ID
from otel_support import record_weather_run

pytestmark = pytest.mark.anyio


class _Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append(request)
        self.server.paths.append(self.path)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_spans_reach_an_otlp_http_receiver(receiver: _Receiver) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    run = await record_weather_run(provider)
    provider.shutdown()
    spans = [
        span
        for request in receiver.requests
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert {"/v1/traces"} == set(receiver.paths)
    expected = [
        "awaken_eval.item weather",
        f"awaken_eval.run {run.dataset_id}",
        "chat gpt-live",
        "chat gpt-live",
        "execute_tool get_weather",
    ]
    assert sorted(expected) == sorted(span.name for span in spans)
    tool = next(span for span in spans if span.name.startswith("execute_tool"))
    attributes = {kv.key: kv.value for kv in tool.attributes}
    assert "get_weather" == attributes["gen_ai.tool.name"].string_value
    assert run.items[0].trace_run_id == attributes[AGENT_RUN_ID].string_value
    item = next(span for span in spans if span.name.startswith("awaken_eval.item"))
    assert item.span_id == tool.parent_span_id
    assert 1 == len({span.trace_id for span in spans})
