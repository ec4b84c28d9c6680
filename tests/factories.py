"""factory_boy factories with named states, e.g. ProcedureFactory(unpublished_time=True).

Procedures are built through procedure_create so every one has its version 1, as in
production; a procedure without a version could not take dossiers.
"""

import datetime
from decimal import Decimal

import factory

from procedures.catalogue.services import procedure_abolish, procedure_create
from procedures.core.constants import DocumentKind, Level, OnlineLevel
from procedures.models import Field, Procedure, RequiredDocument, Unit


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")
    ministry_code = ""
    order = factory.Sequence(lambda n: n)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n}")
    name = factory.Sequence(lambda n: f"Phòng {n}")
    is_one_stop_desk = False


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure
        # Writes go through the services; no extra save() after post-generation hooks.
        skip_postgeneration_save = True

    class Params:
        unpublished_time = factory.Trait(processing_amount=None)
        online = factory.Trait(online_level=OnlineLevel.FULL, online_level_text="Toàn trình")
        partly_online = factory.Trait(
            online_level=OnlineLevel.PARTIAL, online_level_text="Một phần"
        )
        district = factory.Trait(level=Level.DISTRICT)

    # 9.xxxxxx: real national codes start with 1 or 2, so tests never collide with them.
    code = factory.Sequence(lambda n: f"9.{n:06d}")
    name = factory.Sequence(lambda n: f"Cấp Giấy phép thử nghiệm số {n}")
    field = factory.SubFactory(FieldFactory)
    processing_amount = Decimal("10")
    fee_vnd = 0
    online_level = OnlineLevel.NONE
    implementing_unit = factory.SubFactory(UnitFactory)
    decision_number = factory.Sequence(lambda n: f"{n}/QĐ-UBND")
    decision_date = datetime.date(2014, 12, 20)
    effective_from = datetime.date(2015, 1, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return procedure_create(**kwargs)

    @factory.post_generation
    def abolished(obj, create, extracted, on=datetime.date(2025, 1, 1), **kwargs):
        """ProcedureFactory(abolished=True, abolished__on=date(2025, 7, 1))."""
        if create and extracted:
            procedure_abolish(
                procedure=obj, decision_number="99/QĐ-UBND", decision_date=on, effective_from=on
            )
            obj.refresh_from_db()


class RequiredDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredDocument

    procedure = factory.SubFactory(ProcedureFactory)
    name = factory.Sequence(lambda n: f"Văn bản đề nghị số {n}")
    kind = DocumentKind.ORIGINAL
    copies = 1
    mandatory = True
    order = factory.Sequence(lambda n: n)
