"""Session analysis: resolved sessions become flow proposals (enhancements and new flows).

Pure shaping lives in ``paths`` (a session's steps as a path), ``classify`` (the path against
its flow; ``answers`` decides which offered option a typed answer means), ``tree_building``
(paths into trees), ``wording`` (questions and labels as an engineer
would write them), ``clustering`` (which new-flow proposal a session belongs to) and ``evidence``
(merging a batch into proposals, confidence). The
database side is ``queue_claims`` (claiming work safely across processes), ``store`` (batch
reads and writes), ``id_lists`` (a batch's ids as one parameter), ``service`` (one batch,
and draining the queue) and ``queue_status`` (how much work the queue holds).
"""
