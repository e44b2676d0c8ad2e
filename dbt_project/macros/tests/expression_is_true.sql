{#- Generic test: every row satisfies `expression` (an invariant of the model). -#}
{% test expression_is_true(model, expression) %}

{{ config(meta={'rule': 'break the invariant ' ~ expression, 'fix': 'rebuild the model; report a bug'}) }}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
