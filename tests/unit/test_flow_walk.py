from types import SimpleNamespace

from core.flows.walk import mark, walk


def test_a_session_that_stops_at_a_question_of_its_flow_stopped_at_that_node():
    result = walk([(1, "question", "q_scope"), (2, "action", "a_driver"), (3, "note", None), (4, "question", "q_again")])
    assert result.stopped_at_node == "q_again"


def test_a_session_that_ends_on_its_flows_own_resolution_or_escalation_did_not_stop_in_the_flow():
    assert walk([(1, "question", "q_scope"), (2, "resolution", "r_done")]).stopped_at_node is None
    assert walk([(1, "action", "a_driver"), (2, "escalation", "e_second")]).stopped_at_node is None


def test_steps_off_the_flow_after_the_last_flow_step_do_not_move_where_it_stopped():
    # Improvised steps carry no node: the session left the flow after a_driver.
    steps = [(1, "action", "a_driver"), (2, "question", None), (3, "escalation", None)]
    assert walk(steps).stopped_at_node == "a_driver"


def test_a_session_with_no_flow_steps_stopped_nowhere():
    assert walk([(1, "question", None), (2, "note", None)]).stopped_at_node is None
    assert walk([]) == walk([(1, "note", None)])


def test_retries_on_one_node_repeat_the_step_before_but_a_return_later_does_not():
    steps = [(1, "action", "a"), (2, "action", "a"), (3, "note", None), (4, "action", "a"),
             (5, "question", "q"), (6, "action", "a")]
    assert walk(steps).repeated_seqs == {2, 4}


def test_steps_are_walked_in_seq_order_whatever_order_they_arrive_in():
    steps = [(3, "action", "a"), (1, "question", "q"), (2, "action", "a")]
    result = walk(steps)
    assert (result.stopped_at_node, result.repeated_seqs) == ("a", {3})


def test_mark_sets_the_walk_on_a_session_and_its_steps():
    steps = [SimpleNamespace(seq=1, step_type="action", node_id="a"), SimpleNamespace(seq=2, step_type="action", node_id="a")]
    session = SimpleNamespace(steps=steps)
    mark(session)
    assert session.stopped_at_node == "a"
    assert [s.repeats_previous for s in steps] == [False, True]
