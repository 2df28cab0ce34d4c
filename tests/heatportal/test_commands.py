import pytest
from django.core.management import CommandError, call_command

from heatportal.accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_with_role_password_and_staff(capsys):
    call_command("create_user", "ada", "--role", "Instructor", "--password", "s3cret-pass!", "--staff")

    user = User.objects.get(username="ada")
    assert user.role == "Instructor"
    assert user.is_staff
    assert user.check_password("s3cret-pass!")
    assert "s3cret-pass!" not in capsys.readouterr().out


def test_create_user_without_password_cannot_sign_in(capsys):
    call_command("create_user", "bob", "--role", "Trainee")

    user = User.objects.get(username="bob")
    assert not user.has_usable_password()
    assert not user.is_staff
    assert "no password set" in capsys.readouterr().out


def test_create_user_refuses_a_duplicate_name():
    call_command("create_user", "carol", "--role", "Admin")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "carol", "--role", "Admin")
    assert User.objects.filter(username="carol").count() == 1


def test_create_user_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        call_command("create_user", "dave", "--role", "Overlord")
    assert not User.objects.filter(username="dave").exists()


def test_seed_demo_is_idempotent_and_says_how_to_sign_in(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")

    assert User.objects.count() == 3
    assert set(User.objects.values_list("role", flat=True)) == {"Admin", "Instructor", "Trainee"}
    assert User.objects.get(username="admin").check_password("heat-admin")
    assert "/login/" in first and "heat-admin" in first
