"""Desk load for the embedded-default fault test: staff at several counters register
dossiers brought in person, accept them and assign them, each action its own request
(transaction), while the worker of `make run` sends mail from the same SQLite file.

    DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=sqlite:///... \\
        python -m tests.integration.desk_load --count 30 --counters 3

Prints one JSON line: dossiers done, errors (an action that raised), slowest action.
"""

import argparse
import json
import threading
import time


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from procedures.core.constants import ApplicantType, Channel
    from procedures.dossiers import services as svc
    from procedures.models import Procedure, Unit

    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--counters", type=int, default=3)
    args = parser.parse_args()
    users = get_user_model().objects
    desk, officer = users.get(username="motcua"), users.get(username="chuyenvien")
    unit = Unit.objects.get(code="QLTM")
    procedure = next(p for p in Procedure.objects.order_by("id") if p.accepts_dossiers)
    done, errors, slowest = [], [], [0.0]

    def counter(number: int) -> None:
        try:
            for i in range(number, args.count, args.counters):
                applicant = svc.Applicant(
                    type=ApplicantType.INDIVIDUAL,
                    name=f"Người nộp {i}",
                    id_number=f"0010990{i:05d}",
                    email=f"applicant{i}@example.com",
                )
                try:
                    for step in ("register", "accept", "assign"):
                        started = time.monotonic()
                        if step == "register":
                            d, _pin = svc.dossier_register(
                                procedure=procedure,
                                applicant=applicant,
                                channel=Channel.DIRECT,
                                actor=desk,
                            )
                        elif step == "accept":
                            d = svc.dossier_accept(dossier=d, actor=desk)
                        else:
                            d = svc.dossier_assign(
                                dossier=d, actor=desk, unit=unit, officer=officer
                            )
                        slowest[0] = max(slowest[0], time.monotonic() - started)
                    done.append(d.pk)
                except Exception as exc:  # noqa: BLE001 - counted and printed for the test
                    errors.append(f"{i}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=counter, args=(n,)) for n in range(args.counters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        json.dumps(
            {"dossiers": len(done), "errors": errors, "slowest_action_s": round(slowest[0], 2)}
        )
    )


if __name__ == "__main__":
    main()
