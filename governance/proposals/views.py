"""(Being written: the proposal pages.)"""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


proposal_list = proposal_new = to_answer = flagged = detail = edit = attachment = _todo
answer = implementation = act = _todo
