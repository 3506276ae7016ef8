"""`ln.lineage_graph`: exact node and edge sets of known graphs, on both backends."""

from __future__ import annotations

import pytest
from graph_helpers import E, edges, nodes

import lineage as ln
from lineage.db.database import Connection
from lineage.errors import DoesNotExist, ValidationError
from lineage.graph.build import lineage_graph, node_id, resolve_record


def chain(lin, n, key="step.py"):
    """raw -> r1 -> a1 -> r2 -> a2 ... -> rn -> an; returns (raw, [(run, artifact)])."""
    prefix = "" if key == "step.py" else key + "/"
    raw = lin.artifact(f"{prefix}raw.csv")
    links, previous = [], raw
    for i in range(1, n + 1):
        run = lin.run(key, inputs=(previous,))
        previous = lin.artifact(f"{prefix}a{i}.csv", run)
        links.append((run, previous))
    return raw, links


def test_chain_upstream_downstream_and_both(lin):
    raw, [(r1, a1), (r2, a2), (r3, a3)] = chain(lin, 3)
    chain_edges = {E(raw, r1, "input"), E(r1, a1, "output"), E(a1, r2, "input"),
                   E(r2, a2, "output"), E(a2, r3, "input"), E(r3, a3, "output")}

    up = ln.lineage_graph(a3, downstream=False)
    assert set(up.nodes) == nodes(raw, r1, a1, r2, a2, r3, a3)
    assert edges(up) == chain_edges
    assert up.graph == {"focus": node_id(a3), "upstream": True, "downstream": False,
                        "depth": None, "truncated": False}

    down = ln.lineage_graph(raw, upstream=False)
    assert set(down.nodes) == set(up.nodes)
    assert edges(down) == chain_edges

    middle = ln.lineage_graph(a2, versions=False)
    assert set(middle.nodes) == set(up.nodes)
    assert set(ln.lineage_graph(a2, downstream=False).nodes) == nodes(raw, r1, a1, r2, a2)
    only_down = ln.lineage_graph(a2, upstream=False)
    assert set(only_down.nodes) == nodes(a2, r3, a3)
    assert edges(only_down) == {E(a2, r3, "input"), E(r3, a3, "output")}
    alone = ln.lineage_graph(a2, upstream=False, downstream=False)
    assert set(alone.nodes) == nodes(a2) and not alone.edges


def test_chain_from_a_run(lin):
    raw, [(r1, a1), (r2, a2), (r3, a3)] = chain(lin, 3)
    g = ln.lineage_graph(r2)
    assert set(g.nodes) == nodes(raw, r1, a1, r2, a2, r3, a3)
    assert g.nodes[node_id(r2)]["focus"] is True
    assert sum(d["focus"] for _, d in g.nodes(data=True)) == 1
    assert set(ln.lineage_graph(r2, downstream=False).nodes) == nodes(raw, r1, a1, r2)
    assert set(ln.lineage_graph(r2, upstream=False).nodes) == nodes(r2, a2, r3, a3)


def test_node_attributes(lin):
    raw, [(r1, a1)] = chain(lin, 1)
    g = ln.lineage_graph(a1)
    run = g.nodes[node_id(r1)]
    assert run["kind"] == "run" and run["uid"] == r1.uid
    assert run["transform_key"] == "step.py" and run["transform_version"] == 1
    assert run["entrypoint"] == "main" and run["status"] == "completed"
    assert run["started_at"] == r1.started_at
    artifact = g.nodes[node_id(a1)]
    assert artifact["kind"] == "artifact" and artifact["key"] == "a1.csv"
    assert artifact["version"] == 1 and artifact["is_latest"] is True
    assert artifact["focus"] is True and artifact["truncated"] is False


def test_diamond(lin):
    raw = lin.artifact("raw.csv")
    split = lin.run("split.py", inputs=(raw,))
    b, c = lin.artifact("b.csv", split), lin.artifact("c.csv", split)
    rb, rc = lin.run("left.py", inputs=(b,)), lin.run("right.py", inputs=(c,))
    b2, c2 = lin.artifact("b2.csv", rb), lin.artifact("c2.csv", rc)
    join = lin.run("join.py", inputs=(b2, c2))
    out = lin.artifact("out.csv", join)

    up = ln.lineage_graph(out, downstream=False)
    assert set(up.nodes) == nodes(raw, split, b, c, rb, rc, b2, c2, join, out)
    assert edges(up) == {
        E(raw, split, "input"), E(split, b, "output"), E(split, c, "output"),
        E(b, rb, "input"), E(c, rc, "input"), E(rb, b2, "output"), E(rc, c2, "output"),
        E(b2, join, "input"), E(c2, join, "input"), E(join, out, "output"),
    }
    down = ln.lineage_graph(b, upstream=False)
    assert set(down.nodes) == nodes(b, rb, b2, join, out)
    both = ln.lineage_graph(b)
    assert set(both.nodes) == nodes(raw, split, b, rb, b2, join, out)
    # the sibling branch is neither upstream nor downstream of b, but split->c? no: c is absent
    assert node_id(c) not in both and node_id(rc) not in both


def test_fan_out_and_fan_in(lin):
    raw = lin.artifact("raw.csv")
    scatter = lin.run("scatter.py", inputs=(raw,))
    shards = [lin.artifact(f"shard/{i}.csv", scatter) for i in range(4)]
    workers = [lin.run("work.py", inputs=(s,)) for s in shards]
    parts = [lin.artifact(f"part/{i}.csv", w) for i, w in enumerate(workers)]
    gather = lin.run("gather.py", inputs=tuple(parts))
    merged = lin.artifact("merged.csv", gather)

    g = ln.lineage_graph(merged)
    assert set(g.nodes) == nodes(raw, scatter, *shards, *workers, *parts, gather, merged)
    expected = {E(raw, scatter, "input"), E(gather, merged, "output")}
    for s, w, p in zip(shards, workers, parts, strict=True):
        expected |= {E(scatter, s, "output"), E(s, w, "input"), E(w, p, "output"),
                     E(p, gather, "input")}
    assert edges(g) == expected

    one_shard = ln.lineage_graph(shards[2])
    assert set(one_shard.nodes) == nodes(raw, scatter, shards[2], workers[2], parts[2], gather,
                                         merged)


def test_recreated_artifact_shows_every_creating_run(lin):
    raw = lin.artifact("raw.csv")
    first = lin.run("make.py", inputs=(raw,))
    result = lin.artifact("result.csv", first)
    other = lin.artifact("other.csv")
    second = lin.run("make_again.py", inputs=(other,))
    lin.recreate(result, second)
    consumer = lin.run("use.py", inputs=(result,))

    assert [r.uid for r in result.previous_runs] == [first.uid]
    g = ln.lineage_graph(result)
    assert set(g.nodes) == nodes(raw, first, other, second, result, consumer)
    assert edges(g) == {
        E(raw, first, "input"), E(first, result, "output", recreated=True),
        E(other, second, "input"), E(second, result, "output"), E(result, consumer, "input"),
    }
    # downstream of the earlier run still reaches the artifact it made
    assert node_id(result) in ln.lineage_graph(first, upstream=False)


def test_versions_neighbors_and_edges(lin):
    makers = [lin.run("report.py") for _ in range(3)]
    v1, v2, v3 = (lin.artifact("report.csv", r) for r in makers)
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    lin.load(makers[1], v1)  # the second run updated the first version

    g = ln.lineage_graph(v2)
    # v3 is v2's next version, but v3's creator is neither upstream nor downstream of v2
    assert set(g.nodes) == nodes(makers[0], v1, makers[1], v2, v3)
    assert edges(g) == {
        E(makers[0], v1, "output"), E(v1, makers[1], "input"), E(makers[1], v2, "output"),
        E(v1, v2, "version"), E(v2, v3, "version"),
    }


def test_versions_exact(lin):
    makers = [lin.run("report.py") for _ in range(3)]
    v1, v2, v3 = (lin.artifact("report.csv", r) for r in makers)

    g = ln.lineage_graph(v2)
    assert set(g.nodes) == nodes(makers[1], v1, v2, v3)
    assert edges(g) == {E(makers[1], v2, "output"), E(v1, v2, "version"), E(v2, v3, "version")}
    assert set(ln.lineage_graph(v2, downstream=False).nodes) == nodes(makers[1], v1, v2)
    assert set(ln.lineage_graph(v2, upstream=False).nodes) == nodes(v2, v3)
    assert set(ln.lineage_graph(v2, versions=False).nodes) == nodes(makers[1], v2)
    assert set(ln.lineage_graph(v3).nodes) == nodes(makers[2], v2, v3)


def test_update_in_place_links_versions_in_the_graph(lin):
    maker = lin.run("report.py")
    v1 = lin.artifact("report.csv", maker)
    updater = lin.run("update.py", inputs=(v1,))
    v2 = lin.artifact("report.csv", updater)

    g = ln.lineage_graph(v2)
    assert set(g.nodes) == nodes(maker, v1, updater, v2)
    assert edges(g) == {E(maker, v1, "output"), E(v1, updater, "input"),
                        E(updater, v2, "output"), E(v1, v2, "version")}


def test_steps_and_initiating_runs(lin):
    raw = lin.artifact("raw.csv")
    flow = lin.run("wf.py", "main", inputs=(raw,))
    s1 = lin.run("wf.py", "subset", inputs=(raw,), parent=flow)
    mid = lin.artifact("mid.csv", s1)
    s2 = lin.run("wf.py", "train", inputs=(mid,), parent=flow)
    model = lin.artifact("model.pkl", s2)
    unrelated = lin.run("wf.py", "report", parent=flow)
    report = lin.artifact("report.html", unrelated)

    up = ln.lineage_graph(model, downstream=False)
    assert set(up.nodes) == nodes(raw, flow, s1, mid, s2, model)
    assert edges(up) == {
        E(raw, flow, "input"), E(raw, s1, "input"), E(flow, s1, "initiated"),
        E(flow, s2, "initiated"), E(s1, mid, "output"), E(mid, s2, "input"),
        E(s2, model, "output"),
    }
    down = ln.lineage_graph(flow, upstream=False)
    assert set(down.nodes) == nodes(flow, s1, s2, unrelated, mid, model, report)
    assert (node_id(flow), node_id(unrelated), "initiated") in edges(down)
    nested = lin.run("wf.py", "inner", parent=s2)
    assert set(ln.lineage_graph(nested, downstream=False).nodes) == nodes(nested, s2, flow, mid, s1,
                                                                          raw)


def test_depth_caps_hops_and_marks_the_border(lin):
    raw, links = chain(lin, 5)
    (r4, a4), (r5, a5) = links[3], links[4]

    g = ln.lineage_graph(a5, depth=2)
    assert set(g.nodes) == nodes(a5, r5, a4)
    assert g.graph["truncated"] is True and g.graph["depth"] == 2
    assert g.nodes[node_id(a4)]["truncated"] is True
    assert g.nodes[node_id(r5)]["truncated"] is False
    assert edges(g) == {E(a4, r5, "input"), E(r5, a5, "output")}

    zero = ln.lineage_graph(a5, depth=0)
    assert set(zero.nodes) == nodes(a5) and zero.graph["truncated"] is True
    exact = ln.lineage_graph(a5, depth=10)
    assert len(exact) == 11 and exact.graph["truncated"] is False
    just_enough = ln.lineage_graph(a5, depth=10, downstream=False)
    assert just_enough.graph["truncated"] is False
    assert ln.lineage_graph(a5, depth=9).graph["truncated"] is True
    middle = ln.lineage_graph(links[2][1], depth=1)
    assert set(middle.nodes) == nodes(links[2][1], links[2][0], r4)


def test_depth_takes_the_shortest_path(lin):
    raw = lin.artifact("raw.csv")
    r1 = lin.run(inputs=(raw,))
    a1 = lin.artifact("a1.csv", r1)
    r2 = lin.run(inputs=(a1, raw))  # raw is 1 hop from r2 directly, 3 hops through a1
    out = lin.artifact("out.csv", r2)
    g = ln.lineage_graph(out, depth=2)
    assert set(g.nodes) == nodes(out, r2, a1, raw)
    assert edges(g) == {E(a1, r2, "input"), E(raw, r2, "input"), E(r2, out, "output")}


def test_cycle_terminates(lin):
    seed = lin.artifact("state.json")
    loop = lin.run("loop.py", inputs=(seed,))
    lin.recreate(seed, loop)  # loaded it and saved the same content again
    g = ln.lineage_graph(seed)
    assert set(g.nodes) == nodes(seed, loop)
    assert edges(g) == {E(seed, loop, "input"), E(loop, seed, "output")}
    assert set(ln.lineage_graph(seed, depth=5).nodes) == nodes(seed, loop)


def test_hidden_artifacts_are_left_out(lin):
    raw = lin.artifact("raw.csv")
    run = lin.run(inputs=(raw,))
    done = lin.artifact("done.csv", run)
    half = lin.artifact("half.csv", run, hidden=True)
    lin.load(lin.run("next.py"), half)
    g = ln.lineage_graph(raw)
    assert set(g.nodes) == nodes(raw, run, done)
    assert node_id(half) not in ln.lineage_graph(run)


def test_constant_number_of_queries(lin, monkeypatch):
    calls = []
    original = Connection.execute

    def counting(self, sql, params=()):
        calls.append(sql)
        return original(self, sql, params)

    def count(record, **kwargs):
        calls.clear()
        monkeypatch.setattr(Connection, "execute", counting)
        try:
            graph = lineage_graph(record, **kwargs)
        finally:
            monkeypatch.setattr(Connection, "execute", original)
        return len([c for c in calls if c.lstrip().upper().startswith(("SELECT", "WITH"))]), graph

    _, short = chain(lin, 2, key="short.py")
    _, long = chain(lin, 30, key="long.py")
    short_count, short_graph = count(short[-1][1])
    long_count, long_graph = count(long[-1][1])
    assert len(long_graph) == 61 and len(short_graph) == 5
    assert short_count == long_count <= 5


def test_resolve_record_and_strings(lin):
    raw, [(r1, a1)] = chain(lin, 1)
    assert resolve_record(a1.uid) == a1
    assert resolve_record(r1.uid) == r1
    assert resolve_record("a1.csv") == a1
    assert resolve_record(r1.uid[:8]) == r1
    assert resolve_record("step.py") == r1
    assert set(ln.lineage_graph("a1.csv").nodes) == nodes(raw, r1, a1)
    with pytest.raises(DoesNotExist, match="no artifact or run matches"):
        resolve_record("nothing-like-this")


def test_invalid_arguments(lin):
    raw, [(r1, a1)] = chain(lin, 1)
    with pytest.raises(ValidationError, match="Run or an Artifact"):
        ln.lineage_graph(lin.transform("step.py"))
    with pytest.raises(ValidationError, match="not saved"):
        ln.lineage_graph(ln.Artifact._from_fields(key="x.csv"))
    with pytest.raises(ValidationError, match="depth"):
        ln.lineage_graph(a1, depth=-1)


def test_deleted_record(lin):
    raw, [(r1, a1)] = chain(lin, 1)
    stale = ln.Artifact.get(id=a1.id)
    a1.delete()
    with pytest.raises(DoesNotExist, match="deleted"):
        ln.lineage_graph(stale)


def test_data_passed_between_engine_tasks_is_a_run_to_run_edge(lin):
    from lineage import lifecycle

    raw = lin.artifact("raw.csv")
    flow = lin.run("wf.py", "pipeline")
    extract = lin.run("wf.py", "extract", inputs=(raw,), parent=flow)
    transform = lin.run("wf.py", "transform", parent=flow)
    load = lin.run("wf.py", "load", parent=flow)
    table = lin.artifact("table.csv", load)
    lifecycle.record_upstream(transform, extract)   # extract's return value went to transform
    lifecycle.record_upstream(load, transform)

    up = ln.lineage_graph(table, downstream=False)
    assert set(up.nodes) == nodes(table, load, transform, extract, raw, flow)
    assert {e for e in edges(up) if e[2] == "data"} == {
        E(extract, transform, "data"), E(transform, load, "data")}
    down = ln.lineage_graph(raw, upstream=False)
    assert {node_id(transform), node_id(load), node_id(table)} <= set(down.nodes)
    assert E(extract, transform, "data") in edges(down)
    # a bounded graph counts data edges as hops like any other
    near = ln.lineage_graph(table, downstream=False, depth=2)
    assert set(near.nodes) == nodes(table, load, transform, flow)


def test_a_step_its_flow_both_initiated_and_fed_has_one_initiated_edge(lin):
    from lineage.db.record import current_db

    flow = lin.run("flow.py")
    step = lin.run("step.py", parent=flow)
    out = lin.artifact("out.csv", step)
    current_db().write(lambda c: c.execute(
        "INSERT INTO run_upstream (run_id, upstream_run_id, created_at) VALUES (?, ?, ?)",
        [step.id, flow.id, c.dialect.encode("datetime", lin.clock)]))
    g = ln.lineage_graph(out, downstream=False)
    assert edges(g) == {E(flow, step, "initiated"), E(step, out, "output")}
    # The output edge was added first: it stays first among the step's edges.
    assert list(g.successors(node_id(step))) == [node_id(out)]


def test_lineage_graph_with_reads_more_in_the_graphs_transaction(lin):
    from lineage.db.record import current_db
    from lineage.graph.build import lineage_graph_with

    raw, [(r1, a1), (r2, a2)] = chain(lin, 2)
    seen = []

    def also(conn, fetched):
        seen.append(current_db().in_transaction())
        return sorted(fetched["depths"].items()), conn.scalar("SELECT COUNT(*) FROM run")

    graph, (depths, runs) = lineage_graph_with(a2, downstream=False, depth=1, also=also)
    assert seen == [True]
    assert set(graph.nodes) == nodes(r2, a2)
    # Nodes one hop beyond the depth are in `depths` (they tell what was cut).
    assert depths == sorted({("a", a2.id): 0, ("r", r2.id): 1, ("a", a1.id): 2}.items())
    assert runs == 2
    assert lineage_graph_with(a2, downstream=False)[1] is None
