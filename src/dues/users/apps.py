from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "dues.users"
    label = "users"
    verbose_name = "Users and roles"
