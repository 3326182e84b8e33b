"""Administration for the admin role: users (`users`) and API keys (`keys`)."""

from escrow.web.admin.keys import KeysController
from escrow.web.admin.users import UsersController

CONTROLLERS = [UsersController, KeysController]
