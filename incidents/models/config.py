"""What a tenant configures: priority scale and matrix, groups, categories, resolution codes."""

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwned


class Level(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class PriorityLevel(TenantOwned):
    """One level of the tenant's priority scale; rank 1 is the most urgent."""

    slug = models.SlugField(max_length=32)
    label = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField()
    # A level taken off the scale stays for the closed incidents that still name it.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="prioritylevel_unique_slug"),
            models.UniqueConstraint(
                fields=["tenant", "rank"],
                condition=models.Q(is_active=True),
                name="prioritylevel_unique_rank",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class PriorityMatrixCell(TenantOwned):
    impact = models.CharField(max_length=8, choices=Level.choices)
    urgency = models.CharField(max_length=8, choices=Level.choices)
    level = models.ForeignKey(PriorityLevel, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "impact", "urgency"], name="matrixcell_unique_pair"
            ),
        ]


class AssignmentGroup(TenantOwned):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_assign = models.BooleanField(
        default=False, help_text="Assign new incidents to the member with the fewest open ones."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="group_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMember(TenantOwned):
    group = models.ForeignKey(AssignmentGroup, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group", "user"], name="groupmember_unique"),
        ]


class Category(TenantOwned):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60)
    # The routing rule: an incident reported in this category is escalated to this group.
    group = models.ForeignKey(
        AssignmentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="categories",
        verbose_name="route to group",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="category_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class ResolutionCode(TenantOwned):
    slug = models.SlugField(max_length=60)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="resolutioncode_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.label
