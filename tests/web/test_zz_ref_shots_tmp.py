from tests.web.test_referrals_browser import *  # noqa
from tests.referrals.conftest import make_referral
from referrals.codes import Status

def test_shots(browser, base_url, session, scene, settings):
    r = make_referral(session, scene, settings, Status.requested)
    make_referral(session, scene, settings, Status.completed)
    o = make_referral(session, scene, settings, Status.requested, is_open=True)
    peer = signed_in(browser, base_url, session, scene.peer).new_page()
    peer.goto(f"{base_url}/services/{scene.service_a.id}/refer"); peer.screenshot(path="/tmp/shots/form.png", full_page=True)
    peer.goto(f"{base_url}/referrals"); peer.screenshot(path="/tmp/shots/dashboard.png", full_page=True)
    m = signed_in(browser, base_url, session, scene.member).new_page()
    m.goto(f"{base_url}/referrals/inbox"); m.screenshot(path="/tmp/shots/inbox.png", full_page=True)
    m.goto(f"{base_url}/referrals/{r.id}"); m.screenshot(path="/tmp/shots/detail.png", full_page=True)
    m.goto(f"{base_url}/referrals/{o.id}"); m.screenshot(path="/tmp/shots/preview.png", full_page=True)
    m.goto(f"{base_url}/referrals/metrics"); m.screenshot(path="/tmp/shots/metrics.png", full_page=True)
