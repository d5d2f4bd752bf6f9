"""Formatting shared by the CLI and the app (ccplan.report): every sentence follows the numbers."""

from ccplan.report import trainer_story


def _waits(fifo, priority, aging):
    return {("fifo", "gold"): fifo[0], ("fifo", "silver"): fifo[1], ("priority", "gold"): priority[0],
            ("priority", "silver"): priority[1], ("aging", "gold"): aging[0], ("aging", "silver"): aging[1]}


def test_trainer_story_says_in_between_only_when_it_is():
    text = " ".join(trainer_story(_waits((20, 21), (3, 40), (10, 30)), {"fifo": 20, "priority": 21, "aging": 21},
                                  {"fifo": 0.01, "priority": 0.01, "aging": 0.01}, 0.9, 120))
    assert "in between" in text and "about the same" in text and "hardly moves" in text
    # gold share 0.1: aging behaves like priority; the old text still said "in between"
    text = " ".join(trainer_story(_waits((20, 21), (3, 25), (3.5, 25)), {"fifo": 20, "priority": 22, "aging": 22},
                                  {"fifo": 0.01, "priority": 0.01, "aging": 0.01}, 0.9, 120))
    assert "in between" not in text and "much like strict priority" in text


def test_trainer_story_does_not_claim_the_queue_explodes_below_full_load_and_explains_overload():
    calm = " ".join(trainer_story(_waits((5, 5), (2, 7), (3, 6)), {"fifo": 5, "priority": 5, "aging": 5},
                                  {"fifo": 0.0, "priority": 0.001, "aging": 0.0}, 0.8, 120))
    assert "explodes" not in calm and "almost nobody hangs up" in calm
    over = " ".join(trainer_story(_waits((300, 300), (20, 450), (100, 380)), {"fifo": 300, "priority": 200,
                                                                             "aging": 250},
                                  {"fifo": 0.17, "priority": 0.15, "aging": 0.16}, 1.2, 120))
    assert "more work arrives than the agents can do" in over and "17% abandon under fifo" in over
    assert "hardly moves" not in over and "changes who gives up" in over


def test_differences_that_round_to_nothing_have_no_minus_sign():
    from ccplan.report import delta_text

    assert delta_text(-0.3, "agent_cost") == "+0"
    assert delta_text(-0.0004, "service_level") == "+0.0 pts"
    assert delta_text(-0.061, "service_level") == "-6.1 pts"
    assert delta_text(-0.04, "asa_s") == "+0.0 s"
