{#- Shrink guard of write-audit-publish: compares the audited rows (`model`, the window's
    new rows) per game_date with what the model publishing them (its meta wap_published_by,
    the mart users read) holds for the same window, before anything is published. Fails on
    - a day that has rows in the published model and none in the audit ('day emptied'), and
    - every day that loses rows when the window as a whole would lose more than
      `max_shrink_pct` % of its published rows ('window shrinks').
    Each failing row names the day, both counts, both window totals and the window's loss.
    var allow_shrink: true turns the failure into a warning (the rows are still stored), for
    a source that really withdrew data.
    The published relation is found at run time (macros/wap/published_relation.sql), not with
    ref(). On the first build (no published relation yet) nothing can shrink. Under
    `dbt test` `model` is the published relation itself (tested_relation): nothing to
    compare, the test passes. -#}
{% test no_window_shrink(model, max_shrink_pct=var('shrink_max_pct', 2)) %}
    {{ config(severity=('warn' if var('allow_shrink', false) else 'error')) }}
    {%- set published = none -%}
    {%- if execute -%}
        {%- set published_by = wap_published_by() -%}
        {%- if not published_by -%}
            {{ exceptions.raise_compiler_error(
                "no_window_shrink needs config meta wap_published_by on model " ~ model.attached_node) }}
        {%- endif -%}
        {%- set published = published_relation(published_by) -%}
    {%- endif %}

    with audited as (
        select
            game_date,
            count(*) as row_count
        from {{ model }}
        group by game_date
    ),

    published as (
        {%- if published is not none %}
        select
            game_date,
            count(*) as row_count
        from {{ published }}
        where {{ in_window('game_date') }}
        group by game_date
        {%- else %}
        select * from audited where 1 = 0
        {%- endif %}
    ),

    days as (
        select
            coalesce(published.game_date, audited.game_date) as game_date,
            coalesce(published.row_count, 0) as published_rows,
            coalesce(audited.row_count, 0) as audited_rows
        from published
        full outer join audited
            on published.game_date = audited.game_date
    ),

    window_totals as (
        select
            sum(published_rows) as window_published_rows,
            sum(audited_rows) as window_audited_rows
        from days
    ),

    compared as (
        select
            days.game_date,
            days.published_rows,
            days.audited_rows,
            window_totals.window_published_rows,
            window_totals.window_audited_rows,
            case
                when window_totals.window_published_rows > 0
                    then round(
                        100.0 * (window_totals.window_published_rows - window_totals.window_audited_rows)
                        / window_totals.window_published_rows, 2
                    )
            end as window_shrink_pct
        from days
        cross join window_totals
    )

    select
        *,
        case
            when published_rows > 0 and audited_rows = 0 then 'day emptied'
            else 'window shrinks by more than {{ max_shrink_pct }}%'
        end as reason
    from compared
    where
        (published_rows > 0 and audited_rows = 0)
        or (window_shrink_pct > {{ max_shrink_pct }} and audited_rows < published_rows)
{% endtest %}
