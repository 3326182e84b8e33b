"""The pure rules of the business. Nothing here imports a framework or touches a database."""
