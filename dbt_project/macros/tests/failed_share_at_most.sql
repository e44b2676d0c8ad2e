{#- Generic test on a verdict model: fails when more than `share` of its rows were
    dropped or rejected (a file that is mostly garbage fails as a whole). -#}
{% test failed_share_at_most(model, share) %}

select count(*) as total, count(*) filter (where _drop_reason is not null or _reject_reason is not null) as failed
from {{ model }}
having count(*) filter (where _drop_reason is not null or _reject_reason is not null) > {{ share }} * count(*)

{% endtest %}
