"""Settings for the Django reference check: one database, chosen by run.py
through the environment before django.setup().

RACELAB_DJANGO_BACKEND   sqlite or postgres
RACELAB_DJANGO_SQLITE    sqlite: the database file (run.py makes it in a temp dir)
RACELAB_TEST_PG          postgres: the libpq conninfo of the throwaway server, e.g.
                         host=DIR/sock port=5432 dbname=racelab user=racelab
                         (host= names the socket directory, as in libpq)
RACELAB_DJANGO_SCHEMA    postgres: the private schema run.py created for this run
RACELAB_DJANGO_ISOLATION postgres: 'serializable' sets OPTIONS['isolation_level']

Everything else is Django's default: the article's code runs as a user's would
(on SQLite that includes Python's 5 s busy timeout).
"""
import os

SECRET_KEY = 'racelab-django-reference-not-secret'
INSTALLED_APPS = ['djref']
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'


def _postgres():
    # Django's own parser for libpq strings and URIs: psycopg2's parse_dsn.
    from psycopg2.extensions import parse_dsn, ISOLATION_LEVEL_SERIALIZABLE

    params = parse_dsn(os.environ['RACELAB_TEST_PG'])
    db = {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': params.pop('dbname', ''),
        'USER': params.pop('user', ''),
        'PASSWORD': params.pop('password', ''),
        'HOST': params.pop('host', ''),
        'PORT': params.pop('port', ''),
        'OPTIONS': params,           # sslmode=… and the like go through as they are
    }
    schema = os.environ.get('RACELAB_DJANGO_SCHEMA')
    if schema:
        # libpq's options: the server sets search_path for every connection.
        db['OPTIONS']['options'] = '-c search_path=' + schema
    if os.environ.get('RACELAB_DJANGO_ISOLATION') == 'serializable':
        db['OPTIONS']['isolation_level'] = ISOLATION_LEVEL_SERIALIZABLE
    return db


if os.environ.get('RACELAB_DJANGO_BACKEND') == 'postgres':
    DATABASES = {'default': _postgres()}
else:
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.environ.get('RACELAB_DJANGO_SQLITE', ':memory:'),
    }}
