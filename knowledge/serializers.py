"""What the knowledge API reads and answers. Writes are checked here for their shape and carried
out by knowledge.services, whose own checks (title, length, audience, category) still hold."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from knowledge.models import Article, Audience
from knowledge.rendering import render_markdown
from knowledge.services import BODY_MAX, TITLE_MAX

TITLE_ERRORS = {
    "required": "Give the article a title.",
    "blank": "Give the article a title.",
    "null": "Give the article a title.",
    "max_length": f"A title is limited to {TITLE_MAX} characters.",
}
BODY_ERRORS = {
    "null": "Send the body as text (it may be empty).",
    "max_length": f"An article is limited to {BODY_MAX:,} characters.",
}
AUDIENCE_ERRORS = {
    "invalid_choice": "Choose who may read the article: requesters or agents.",
    "null": "Choose who may read the article: requesters or agents.",
}


class ArticleItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Markdown, as written.")
    html = serializers.SerializerMethodField(help_text="The body rendered and sanitised.")
    category = serializers.CharField(source="category.slug", allow_null=True, default=None)
    audience = serializers.ChoiceField(choices=Audience.choices)
    state = serializers.CharField(help_text="draft, published or retired.")
    version = serializers.IntegerField(help_text="Grows with every saved edit; the ETag.")
    views = serializers.IntegerField(source="view_count")
    helpful = serializers.IntegerField(source="helpful_votes", default=0)
    unhelpful = serializers.IntegerField(source="unhelpful_votes", default=0)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, article: Article) -> str:
        # The tenant's slug from the view: article.tenant would be one more query per row.
        slug = self.context["tenant_slug"]
        path = reverse("knowledge-article", kwargs={"tenant_slug": slug, "pk": article.pk})
        return settings.SITE_URL + path

    def get_html(self, article: Article) -> str:
        return render_markdown(article.body)


class ArticleCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX, error_messages=TITLE_ERRORS)
    body = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=BODY_MAX,
        error_messages=BODY_ERRORS,
    )
    category = serializers.SlugField(required=False, allow_null=True, max_length=60)
    audience = serializers.ChoiceField(
        choices=Audience.choices, default=Audience.AGENTS, error_messages=AUDIENCE_ERRORS
    )
    incident = serializers.CharField(
        required=False, allow_null=True, max_length=20, help_text="The incident it came from."
    )
    problem = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=20,
        help_text="The problem (known error) it came from: PRB-000007 or 7.",
    )


class ArticleUpdateSerializer(serializers.Serializer):
    """Only the fields sent change; `category: null` clears the category."""

    title = serializers.CharField(max_length=TITLE_MAX, required=False, error_messages=TITLE_ERRORS)
    body = serializers.CharField(
        allow_blank=True, required=False, max_length=BODY_MAX, error_messages=BODY_ERRORS
    )
    category = serializers.SlugField(required=False, allow_null=True, max_length=60)
    audience = serializers.ChoiceField(
        choices=Audience.choices, required=False, error_messages=AUDIENCE_ERRORS
    )


class ArticleVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    author = serializers.CharField(source="author_name")
    created_at = serializers.DateTimeField()
