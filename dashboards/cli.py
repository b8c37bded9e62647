"""`regie dashboards ...`: build the Grafana dashboards and provisioning files; draw previews."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
examples:
  regie dashboards build --out grafana-provisioning        dashboards + provisioning files
  regie dashboards build --out grafana-provisioning --datasource-uid prom-main \\
      --prometheus-url http://prometheus.example.net:9090  your data source's uid and URL
  regie dashboards list                                    the dashboards, their uids and panels

'build' writes a Grafana provisioning directory: datasources/regie.yaml (a Prometheus data
source with a fixed uid, which every panel names), dashboards/regie.yaml (a file provider) and
dashboards/regie/*.json (one file per dashboard). Copy it into /etc/grafana/provisioning/ (or
build straight there) and restart Grafana. The panels read the recording rules of
'regie rules export --format recording': load that file in Prometheus too (docs/dashboards.md).

'preview --prometheus URL --out DIR' draws each dashboard from a live Prometheus into
DIR/NAME.png (matplotlib; the panels, queries, units and thresholds of the dashboard), over the
dashboard's own time range or --range.

exit status: 0 ok, 2 bad arguments, 1 a file could not be written or Prometheus failed.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    from dashboards.build import (
        DEFAULT_DATASOURCE_UID,
        DEFAULT_PROMETHEUS_URL,
        DEFAULT_PROVISIONING_DIR,
    )

    parser = argparse.ArgumentParser(
        prog=prog, description="Grafana dashboards for Regie, generated from code.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build = sub.add_parser("build", help="write the dashboards and Grafana provisioning files",
                           description="Write a Grafana provisioning directory: the data "
                                       "source, the dashboard provider, the dashboards.")
    build.add_argument("--out", required=True, type=Path, metavar="DIR",
                       help="the provisioning directory to write (created if missing)")
    build.add_argument("--datasource-uid", default=DEFAULT_DATASOURCE_UID, metavar="UID",
                       help=f"uid of the Prometheus data source (default "
                            f"{DEFAULT_DATASOURCE_UID})")
    build.add_argument("--prometheus-url", default=DEFAULT_PROMETHEUS_URL, metavar="URL",
                       help=f"the data source's URL, as Grafana reaches Prometheus (default "
                            f"{DEFAULT_PROMETHEUS_URL})")
    build.add_argument("--provisioning-dir", default=DEFAULT_PROVISIONING_DIR, metavar="DIR",
                       help=f"where the directory will live on the Grafana host: the provider "
                            f"loads DIR/dashboards/regie (default {DEFAULT_PROVISIONING_DIR})")
    sub.add_parser("list", help="print each dashboard's file, uid, title and panel count")
    preview = sub.add_parser("preview", help="draw each dashboard from a live Prometheus "
                                             "into a PNG",
                             description="Draw each dashboard from a live Prometheus into "
                                         "DIR/NAME.png.")
    preview.add_argument("--prometheus", required=True, metavar="URL",
                         help="Prometheus's base URL, e.g. http://127.0.0.1:9090")
    preview.add_argument("--out", required=True, type=Path, metavar="DIR",
                         help="where to write the PNG files")
    preview.add_argument("--range", metavar="DURATION",
                         help="time range to draw (30m, 6h, 7d); default: each dashboard's own")
    preview.add_argument("--scrape-interval", default="30s", metavar="DURATION",
                         help="Prometheus's scrape interval, for $__rate_interval (default 30s)")
    preview.add_argument("--dashboard", action="append", metavar="NAME",
                         help="only this dashboard (repeatable; names as 'list' prints them)")
    return parser


def main(argv: list[str], prog: str = "regie dashboards") -> int:
    parser = _parser(prog)
    args = parser.parse_args(argv)
    from dashboards import build

    if args.command == "list":
        for name, model in build.dashboards().items():
            count = sum(1 for p in model["panels"] if p["type"] != "row")
            print(f"{name}.json  uid={model['uid']}  {model['title']!r}  {count} panels")
        return 0
    if args.command == "build":
        files = build.files(datasource_uid=args.datasource_uid,
                            prometheus_url=args.prometheus_url,
                            provisioning_dir=args.provisioning_dir)
        try:
            written = build.write(args.out, files)
        except OSError as exc:
            print(f"{prog}: {args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wrote {len(written)} files to {args.out} (data source uid "
              f"{args.datasource_uid})", file=sys.stderr)
        return 0
    return _preview(parser, args, prog)


def _preview(parser: argparse.ArgumentParser, args: argparse.Namespace, prog: str) -> int:
    from dashboards import build
    from dashboards.preview import Prometheus, PrometheusError, parse_duration, render

    try:
        span = parse_duration(args.range) if args.range else None
        scrape = parse_duration(args.scrape_interval)
    except ValueError as exc:
        parser.error(str(exc))
    models = build.dashboards()
    wanted = args.dashboard or list(models)
    unknown = [name for name in wanted if name not in models]
    if unknown:
        parser.error(f"unknown dashboard {', '.join(unknown)} (known: {', '.join(models)})")
    prometheus = Prometheus(args.prometheus)
    try:
        prometheus.get("/api/v1/status/buildinfo", {})
    except PrometheusError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    for name in wanted:
        try:
            path = render(models[name], prometheus, args.out / f"{name}.png",
                          range_seconds=span, scrape_interval_seconds=scrape)
        except PrometheusError as exc:
            print(f"{prog}: {name}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"{prog}: {args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wrote {path}", file=sys.stderr)
    return 0
