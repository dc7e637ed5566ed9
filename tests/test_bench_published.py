"""The benchmarks page is generated: what is committed is what ``python -m bench.publish`` writes."""

from bench.publish import PAGE, PUBLISHED, page


def test_the_benchmarks_page_is_what_bench_publish_writes_from_the_published_runs():
    assert list(PUBLISHED.glob("*.json")), "no published run: bench/run --publish"
    assert PAGE.read_text() == page(), "docs/benchmarks.md is stale: python -m bench.publish"
