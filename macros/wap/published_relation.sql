{#- Write-audit-publish (models/marts/player_game_summary__audit.sql): an audit model names
    the model that publishes its rows in its config, meta: {wap_published_by: <model name>}.
    These macros read that link at run time; nothing refs the published model, since a test
    that refs it would run after it and could not hold the publish back. -#}

{#- The name of the model publishing the rows of the model the running test is attached
    to (its meta wap_published_by), none when it names none. -#}
{% macro wap_published_by() -%}
    {%- set attached = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {{ return((attached.config.meta or {}).get('wap_published_by') if attached else none) }}
{%- endmacro %}

{#- The relation of model `name` as it exists in the warehouse, none before its first build. -#}
{% macro published_relation(name) -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name) | list -%}
    {%- if nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "meta wap_published_by: '" ~ name ~ "' is not a model of the project") }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=nodes[0].database, schema=nodes[0].schema, identifier=nodes[0].alias)) }}
{%- endmacro %}

{#- The relation the running data test should read: under `dbt test` (and so
    `python -m driver validate`) the relation the tested model publishes to, when it names
    one and that exists, so a validation checks what users read; under any other command
    (`dbt build`, `dbt retry` of a build) the tested model's own: for the audit model, its
    tests decide whether the window is published. -#}
{% macro tested_relation(relation) -%}
    {%- if not execute or flags.WHICH != 'test' -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set published_by = wap_published_by() -%}
    {%- set published = published_relation(published_by) if published_by else none -%}
    {{ return(published if published is not none else relation) }}
{%- endmacro %}
