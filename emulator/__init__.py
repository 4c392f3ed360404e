"""An emulator of the VK and OK APIs for tests, benchmarks and the offline demo.

Run: ``python manage.py network_emulator --port 8765 [--seed 1] [--faults SPEC]``; point
``VK_API_BASE_URL`` at ``http://127.0.0.1:8765/method/`` and ``OK_API_BASE_URL`` at
``http://127.0.0.1:8765/fb.do``.

It is held to the networks' published contracts: VK's own JSON schema of API 5.199, vendored in
``vk_schema/`` with VK's licence (``vk_contract.py``: the token types each method takes, its
parameters, the error codes and messages of ``errors.json``), and for OK a contract file written
from its documentation (``ok_contract.json``, read by ``ok_contract.py``). What the real network
would refuse, the emulator refuses too: ``execute`` with a service token is error 28,
``stats.get`` with a community token 27, statistics of a community the user does not administer
7 (15 when it is closed), a parameter outside its type, enum or limits 100. The contract tests
(``tests/contracts/``) read its journal of calls and answers (see ``state.py``).

Tokens it accepts (anything else is VK error 5 / OK error 102; a token containing ``revoked`` is
always refused). A VK token's kind is in its name:

VK (3 requests a second, community tokens 20):
- ``vkemu-svc-demo`` — the demo's service token; any ``vkemu-svc-…`` is a service token
  (groups.getById, utils.resolveScreenName and wall.get, never execute or stats.get).
- ``vkemu-usr-…`` — a user token that administers nothing.
- ``vkemu-adm-all-…`` — a user token that administers every community (stats.get works).
- ``vkemu-adm-<id>_<id>…-…`` — a user token that administers the listed community ids.
- ``vkemu-grp-<id>-…`` — a community token of community ``id`` (20 requests a second;
  groups.getById, utils.resolveScreenName and execute of those, not wall.get or stats.get).

OK (3 requests a second; the application key must be one of ``OK_APPLICATIONS``, the demo's
``CBAEMULATOR`` with secret key ``emulator-secret``):
- ``okemu-…`` — any access token; ``okemu-adm-all-…`` and ``okemu-adm-<id>_<id>…-…``
  administer every group / the listed groups (group.getStatTrends works).

Methods: VK ``groups.getById``, ``utils.resolveScreenName``, ``wall.get``, ``stats.get`` (whole
day/week/month/year intervals in Moscow time, see ``vk.py``) and ``execute`` (the VKScript of
``vkscript.py``: variables, ``.field`` and ``@.field``, up to 25 calls, each held to its own
method's token types); OK ``group.getInfo``, ``group.getStatTrends`` (admins only) and
``mediatopic.getTopics`` (a group's feed, paged by anchor), signed with the session secret.

Data: see ``data.py`` (deterministic from the seed for any id). Faults: see ``faults.py``.
"""
