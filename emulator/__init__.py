"""An emulator of the VK and OK APIs for tests, benchmarks and the offline demo.

Run: ``python manage.py network_emulator --port 8765 [--seed 1] [--faults SPEC]``; point
``VK_API_BASE_URL`` at ``http://127.0.0.1:8765/method/`` and ``OK_API_BASE_URL`` at
``http://127.0.0.1:8765/fb.do``.

Tokens it accepts (anything else is VK error 5 / OK error 102; a token containing ``revoked`` is
always refused):

VK (3 requests a second, community tokens 20):
- ``vkemu-svc-demo`` — the demo's service token; any ``vkemu-svc-…`` is a service token.
- ``vkemu-usr-…`` — a user token that administers nothing.
- ``vkemu-adm-all-…`` — a user token that administers every community (stats.get works).
- ``vkemu-adm-<id>_<id>…-…`` — a user token that administers the listed community ids.
- ``vkemu-grp-<id>-…`` — a community token of community ``id`` (20 requests a second).

OK (3 requests a second; the application key must be one of ``OK_APPLICATIONS``, the demo's
``CBAEMULATOR`` with secret key ``emulator-secret``):
- ``okemu-…`` — any access token; ``okemu-adm-all-…`` and ``okemu-adm-<id>_<id>…-…``
  administer every group / the listed groups (group.getStatTrends works).

Methods: VK ``groups.getById``, ``utils.resolveScreenName``, ``wall.get``, ``stats.get`` and
``execute`` (the VKScript of ``vkscript.py``: variables, ``.field`` and ``@.field``, up to 25
calls); OK ``group.getInfo``, ``group.getStatTrends`` and ``mediatopic.getTopics`` (a group's
feed, paged by anchor).

Data: see ``data.py`` (deterministic from the seed for any id). Faults: see ``faults.py``.
"""
