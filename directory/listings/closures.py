"""Whether a listing is temporarily closed: the one rule search, the listing page and the calendar file share.

A listing is closed for now when its organization said so (status "temporarily closed", maybe with a
reopening date), when a meeting is inactive (a Meeting Guide feed's meeting with neither a place to go nor
a link), or when an in-person meeting carries the Meeting Guide type `TC` (location temporarily closed).
A hybrid or online meeting with `TC` still meets online, so it is not closed. A closed listing never
shows a next time: someone could walk to a closed door.
"""

from datetime import date

from directory.listings.meeting_types import TEMPORARILY_CLOSED
from directory.listings.models import Attendance, Meeting, Service, ServiceStatus


def is_temporarily_closed(service: Service, meeting: Meeting | None) -> bool:
    if service.status == ServiceStatus.temporarily_closed:
        return True
    if meeting is None:
        return False
    if meeting.attendance_mode == Attendance.inactive:
        return True
    return meeting.attendance_mode == Attendance.in_person and TEMPORARILY_CLOSED in (meeting.types or [])


def reopening(service: Service, meeting: Meeting | None, *, today: date) -> date | None:
    """The day a closed listing reopens, when it is known and still ahead; None otherwise."""
    if not is_temporarily_closed(service, meeting) or service.reopening_date is None:
        return None
    return service.reopening_date if service.reopening_date > today else None
